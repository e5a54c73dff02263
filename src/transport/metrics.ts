import client from 'prom-client';
import type { TickStats } from '../engine/scheduler.js';
import { STAGES } from '../engine/stage-timer.js';

/** Prometheus metrics for one server (its own registry, so tests can run several). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly liveSessions = new client.Gauge({ name: 'parley_sessions_live', help: 'Sessions open now', registers: [this.registry] });
  readonly freeSlots = new client.Gauge({ name: 'parley_session_slots_free', help: 'Session slots free now', registers: [this.registry] });
  readonly sessionsTotal = new client.Counter({ name: 'parley_sessions_total', help: 'Sessions opened', registers: [this.registry] });
  readonly refused = new client.Counter({
    name: 'parley_refusals_total', help: 'Connections or sessions refused, by reason', labelNames: ['reason'], registers: [this.registry],
  });
  readonly sessionsEnded = new client.Counter({
    name: 'parley_sessions_ended_total', help: 'Sessions ended, by reason', labelNames: ['reason'], registers: [this.registry],
  });
  readonly framesIn = new client.Counter({ name: 'parley_frames_in_total', help: '80 ms input frames received', registers: [this.registry] });
  readonly framesOut = new client.Counter({ name: 'parley_frames_out_total', help: '80 ms output frames sent', registers: [this.registry] });
  readonly lateFrames = new client.Counter({
    name: 'parley_late_frames_total', help: 'Input frames that missed a tick (stepped more than two tick periods after they arrived)', registers: [this.registry],
  });
  readonly idleRows = new client.Counter({
    name: 'parley_idle_session_ticks_total', help: 'Session-ticks skipped because the session had no whole input frame yet', registers: [this.registry],
  });
  readonly droppedFrames = new client.Counter({
    name: 'parley_dropped_frames_total', help: 'Input frames dropped because a session queued too many', registers: [this.registry],
  });
  readonly droppedAudioBytes = new client.Counter({
    name: 'parley_dropped_output_bytes_total', help: 'Outgoing audio dropped for clients that stopped reading', registers: [this.registry],
  });
  readonly clientErrors = new client.Counter({
    name: 'parley_client_errors_total', help: 'Malformed client input, by kind', labelNames: ['kind'], registers: [this.registry],
  });
  readonly workerRestarts = new client.Counter({ name: 'parley_worker_restarts_total', help: 'Inference worker restarts', registers: [this.registry] });
  readonly workerRestartFailures = new client.Counter({
    name: 'parley_worker_restart_failures_total', help: 'Inference worker restarts that failed (retried with backoff)', registers: [this.registry],
  });
  readonly tickSeconds = new client.Histogram({
    name: 'parley_tick_seconds', help: 'Wall time of one batched model step', registers: [this.registry],
    buckets: [0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.25, 0.5, 1],
  });
  readonly stageSeconds = new client.Histogram({
    name: 'parley_stage_seconds', help: 'Wall time per pipeline stage per tick', labelNames: ['stage'], registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16],
  });
  readonly batchSize = new client.Histogram({
    name: 'parley_batch_size', help: 'Sessions stepped per tick', registers: [this.registry], buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  });
  readonly replyLatency = new client.Histogram({
    name: 'parley_reply_latency_seconds', help: 'From an input frame reaching the engine to its output frame leaving', registers: [this.registry],
    buckets: [0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'parley_', eventLoopMonitoringPrecision: 10 });
  }

  recordTick(s: TickStats): void {
    this.tickSeconds.observe(s.ms / 1000);
    this.batchSize.observe(s.executed);
    if (s.late > 0) this.lateFrames.inc(s.late);
    if (s.idle > 0) this.idleRows.inc(s.idle);
    for (const stage of STAGES) this.stageSeconds.observe({ stage }, s.times[stage] / 1000);
  }
}

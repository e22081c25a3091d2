/** CPU and memory of this process over a benchmark run: what the load generator itself cost. */
import { performance } from 'node:perf_hooks';

export interface ProcessUsage {
  seconds: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** CPU time ÷ wall time, in percent of one core (above 100 when several cores worked). */
  cpuPercent: number;
  /** Largest resident set seen (sampled every interval and at the end), MB. */
  rssPeakMb: number;
  rssEndMb: number;
  heapUsedEndMb: number;
}

const MB = 1024 * 1024;

export class ProcessWatch {
  private readonly cpu = process.cpuUsage();
  private readonly startedAt = performance.now();
  private rssPeak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => {
      this.rssPeak = Math.max(this.rssPeak, process.memoryUsage.rss());
    }, intervalMs);
    this.timer.unref();
  }

  stop(): ProcessUsage {
    clearInterval(this.timer);
    const cpu = process.cpuUsage(this.cpu);
    const seconds = (performance.now() - this.startedAt) / 1000;
    const memory = process.memoryUsage();
    this.rssPeak = Math.max(this.rssPeak, memory.rss);
    return {
      seconds,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      cpuPercent: seconds > 0 ? ((cpu.user + cpu.system) / 1e6 / seconds) * 100 : 0,
      rssPeakMb: this.rssPeak / MB,
      rssEndMb: memory.rss / MB,
      heapUsedEndMb: memory.heapUsed / MB,
    };
  }
}

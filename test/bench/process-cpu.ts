/**
 * CPU time of this process and of its Java children (DynamoDB Local), to say which side of the local
 * stack a benchmark is bound by. Linux only (reads /proc); elsewhere the Java side reads undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux builds). */
const TICKS_PER_SECOND = 100;

function javaChildrenCpuSeconds(): number | undefined {
  let dirs: string[];
  try {
    dirs = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let ticks = 0;
  let found = false;
  for (const pid of dirs) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces, so split after its ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm !== 'java' || Number(fields[1]) !== process.pid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
      found = true;
    } catch {
      // gone meanwhile
    }
  }
  return found ? ticks / TICKS_PER_SECOND : undefined;
}

export interface CpuSpan {
  /** Seconds of CPU since `start`: this process, its Java children (undefined if unreadable), and wall time. */
  stop(): { node: number; java: number | undefined; wall: number };
}

export function cpuSpan(): CpuSpan {
  const node0 = process.cpuUsage();
  const java0 = javaChildrenCpuSeconds();
  const t0 = performance.now();
  return {
    stop() {
      const node = process.cpuUsage(node0);
      const java1 = javaChildrenCpuSeconds();
      return { node: (node.user + node.system) / 1e6, java: java0 === undefined || java1 === undefined ? undefined : java1 - java0, wall: (performance.now() - t0) / 1000 };
    },
  };
}

/** "Node 41.2 s (92 % of a core), DynamoDB Local 60.1 s (135 %)" over the span's wall time. */
export function describeCpu({ node, java, wall }: { node: number; java: number | undefined; wall: number }): string {
  const share = (s: number) => `${((s / wall) * 100).toFixed(0)} % of a core`;
  return `this process ${node.toFixed(1)} s CPU (${share(node)}), DynamoDB Local ${java === undefined ? 'not readable' : `${java.toFixed(1)} s CPU (${share(java)})`}, over ${wall.toFixed(1)} s`;
}

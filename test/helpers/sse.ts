import { EventSourceParserStream } from 'eventsource-parser/stream';
import { PATIENCE_MS } from './wait.ts';

export interface ServerEvent {
  event: string;
  data: unknown;
}

function parsed(m: { event?: string | undefined; data: string }): ServerEvent {
  return { event: m.event ?? 'message', data: JSON.parse(m.data) as unknown };
}

/** Reads a text/event-stream answer event by event; stop() cancels it (the client hangs up). */
export function readEvents(res: Response) {
  if (!res.body) throw new Error('the answer has no body');
  /** Each `retry:` the server set, in order (how long the client waits before reconnecting). */
  const retries: number[] = [];
  const parser = new EventSourceParserStream({ onRetry: (ms) => void retries.push(ms) });
  const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(parser).getReader();
  const seen: ServerEvent[] = [];
  return {
    seen,
    retries,
    /** The next event that matches, reading on until it comes (or the stream ends, or patience runs out). */
    async next(match: (e: ServerEvent) => boolean = () => true): Promise<ServerEvent> {
      const deadline = Date.now() + PATIENCE_MS;
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no matching event within ${PATIENCE_MS} ms; saw ${JSON.stringify(seen)}`)), Math.max(0, deadline - Date.now()));
        });
        const r = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
        if (r.done) throw new Error(`the stream ended first; saw ${JSON.stringify(seen)}`);
        const e = parsed(r.value);
        seen.push(e);
        if (match(e)) return e;
      }
    },
    /** Resolves when the server ends the stream; what it carried until then is added to `seen`. */
    async ended(): Promise<void> {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        seen.push(parsed(r.value));
      }
    },
    stop: () => reader.cancel(),
  };
}

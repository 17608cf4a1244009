import { EventSourceParserStream } from 'eventsource-parser/stream';
import { PATIENCE_MS } from './wait.ts';

export interface ServerEvent {
  event: string;
  data: unknown;
}

/** Reads a text/event-stream answer event by event; stop() cancels it (the client hangs up). */
export function readEvents(res: Response) {
  if (!res.body) throw new Error('the answer has no body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  const seen: ServerEvent[] = [];
  return {
    seen,
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
        const e = { event: r.value.event ?? 'message', data: JSON.parse(r.value.data) as unknown };
        seen.push(e);
        if (match(e)) return e;
      }
    },
    /** Resolves when the server ends the stream. */
    async ended(): Promise<void> {
      for (;;) if ((await reader.read()).done) return;
    },
    stop: () => reader.cancel(),
  };
}

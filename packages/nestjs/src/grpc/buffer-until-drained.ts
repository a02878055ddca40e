// Nest's buffer for the messages of a `@GrpcStreamMethod` client stream that arrive before the handler
// subscribes (while guards such as SvidkitGuard decide), as Nest 12 has it (internal). Nest 11's drops
// the buffered messages and the completion when the client half-closes before the handler runs: the
// handler never gets them and the call hangs until its deadline.
import { ReplaySubject, Subject } from 'rxjs'

export function bufferUntilDrained<T>() {
  const subject = new Subject<T>()
  let replayBuffer: ReplaySubject<T> | null = new ReplaySubject<T>()
  let hasDrained = false
  function drainBuffer(): void {
    if (hasDrained || !replayBuffer) return
    hasDrained = true
    // Replays the buffered values (and the completion) into the subject the handler subscribed to.
    setImmediate(() => {
      replayBuffer?.subscribe(subject).unsubscribe()
      replayBuffer = null
    })
  }
  return {
    subject: new Proxy(subject, {
      get(target, prop, receiver) {
        if (prop === 'asObservable') {
          return () => {
            const stream = subject.asObservable()
            // Nest calls `drainBuffer` once the enhancers (guards, interceptors) let the handler run.
            Object.defineProperty(stream, drainBuffer.name, { value: drainBuffer })
            return stream
          }
        }
        return Reflect.get(hasDrained || !replayBuffer ? target : replayBuffer, prop, receiver)
      },
    }),
    next: (value: T): void => {
      if (!hasDrained) replayBuffer?.next(value)
      subject.next(value)
    },
    error: (err: unknown): void => {
      replayBuffer?.error(err)
      subject.error(err)
    },
    complete: (): void => {
      // Kept until replayed: the subject completes after the buffer has been drained into it.
      if (replayBuffer) replayBuffer.complete()
      else subject.complete()
    },
    // Nest 11 calls it on 'end'; the buffer must outlive the end of the client stream.
    cleanup: (): void => {},
  }
}

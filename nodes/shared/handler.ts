// The one way our nodes handle input: await the work, then done(); a failure goes to done(err),
// which logs it and reaches Catch nodes. No rejected promise ever escapes.
import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import { takeLogin, type MessageLogin } from './secret-vault';

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type InputHandler = (msg: NodeMessageInFlow, send: Send, login: MessageLogin) => Promise<void>;

/**
 * Runs `handler` for each message. A login in the message (msg.credentials, msg.creds,
 * msg.sendCredentialsPlaintext) is taken out before the handler runs and handed to it as
 * `login`, so no error the handler throws can carry it to a Catch node or the log.
 */
export function onInput(node: Node, handler: InputHandler): void {
  node.on('input', (msg, send, done) => {
    const login = takeLogin(msg as unknown as Record<string, unknown>);
    let work: Promise<void>;
    try {
      work = handler(msg, send, login);
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      () => done(),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  });
}

/** Calls fn at most every `ms`, always running the last call (for progress status). */
export function throttle(ms: number, fn: () => void): { run(): void; flush(): void; cancel(): void } {
  let last = 0;
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  return {
    run() {
      if (timer) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    flush() {
      if (timer) clearTimeout(timer);
      fire();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

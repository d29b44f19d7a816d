// The one way our nodes handle input: await the work, then done(); a failure goes to done(err),
// which logs it and reaches Catch nodes. No rejected promise ever escapes.
import type { Node, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
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

/** How often a node shows a per-message status at most, ms. */
export const STATUS_EVERY_MS = 250;

/**
 * A node's status for work that comes one message at a time: shown at once when none was shown in
 * the last STATUS_EVERY_MS, else the latest one when that time is up. The text is made (and
 * translated) only when shown: a scan of 1,000 brokers made ~5,000 status calls per node chain,
 * each through i18next and the runtime's status events, where a person can read four a second.
 * `now` shows a status at once (the end of the work) and drops a pending one.
 */
export function statusShown(node: Node, ms = STATUS_EVERY_MS): { show(status: () => NodeStatus): void; now(status: () => NodeStatus): void; flush(): void; cancel(): void } {
  let latest: (() => NodeStatus) | null = null;
  const shown = throttle(ms, () => {
    const s = latest;
    latest = null;
    if (s) node.status(s());
  });
  return {
    show(status) {
      latest = status;
      shown.run();
    },
    now(status) {
      latest = status;
      shown.flush();
    },
    /** Shows the pending status at once, if there is one. */
    flush() {
      if (latest) shown.flush();
    },
    cancel() {
      latest = null;
      shown.cancel();
    },
  };
}

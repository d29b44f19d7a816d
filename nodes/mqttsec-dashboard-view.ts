// Dashboard view: one step of the shipped lab dashboard or HTTP API flow (check the form, collect
// the results, table rows, broker detail, progress, history, API key, ...), chosen in the editor.
// The logic is lib/dashboard's (VIEWS); this node gives it the flow context, the environment and
// Node-RED's ids, timers and HTTP responses.
//
// Why a node of ours and not function nodes calling lib/dashboard: a function node reaches our
// code only through `libs` (functionExternalModules) or through functionGlobalContext. The lab and
// the Docker image set functionExternalModules to false, so such a function node fails to start;
// where it is on, Node-RED looks for the module among the user directory's package.json
// dependencies and npm-installs it at deploy time when it is not listed (the lab links the package
// in without listing it): a network install at run time. functionGlobalContext would come from the
// lab's settings alone, so an imported flow would break in anyone else's Node-RED. This node ships in the
// package like the scanner's nodes: the flows work wherever the package is installed, offline,
// with no setting.
import type { NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { isLabControls, isViewName, LAB_CONTROLS_KEY, VIEWS, type View, type ViewContext, type ViewMessage, type ViewOutputs } from '../lib/dashboard';
import { defineNode } from './shared/define';
import { onInput } from './shared/handler';
import { historyOf } from './shared/history';
import { offerRoute } from './shared/listener-handoff';

interface ViewDef extends NodeDef {
  /** A key of lib/dashboard VIEWS, e.g. 'scan-form'. */
  view?: string;
}

/** msg.res of an "http in" node: Node-RED's wrapper around the express response. */
interface HttpResponseWrapper {
  _res?: { headersSent?: boolean; status(code: number): { set(h: Record<string, string>): { send(body: string): void } } };
}

export = (RED: NodeAPI) =>
  defineNode<ViewDef>(RED, 'mqttsec-dashboard-view', (node, config, t) => {
    const view: View | null = isViewName(config.view) ? VIEWS[config.view] : null;
    const timers = new Set<NodeJS.Timeout>();
    const flow = node.context().flow;
    const global = node.context().global;
    const ctx: ViewContext = {
      flow: { get: (key) => flow.get(key), set: (key, value) => flow.set(key, value) },
      global: { get: (key) => global.get(key), set: (key, value) => global.set(key, value) },
      env: (name) => {
        const v: unknown = RED.util.getSetting(node, name);
        return v === undefined || v === null ? undefined : String(v);
      },
      now: () => Date.now(),
      newId: () => RED.util.generateId(),
      later: (ms, fn) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          fn();
        }, ms);
        timers.add(timer);
      },
      send: (outputs) => {
        if (hasMessage(outputs)) node.send(outputs as unknown as NodeMessage[]);
      },
      memory: new Map(),
      // `npm start` puts its lab's controls here (settings.functionGlobalContext); elsewhere there are none.
      labControls: () => {
        const lab: unknown = global.get(LAB_CONTROLS_KEY);
        return isLabControls(lab) ? lab : undefined;
      },
      respond: (res, status, headers, body) => {
        const r = (res as HttpResponseWrapper | null)?._res;
        try {
          if (r && !r.headersSent) r.status(status).set(headers).send(JSON.stringify(body));
        } catch (err) {
          node.warn(t('warn.notAnswered', { message: (err as Error).message }));
        }
      },
    };
    // A view that routes a scan's results by msg.sniff (scan-route) tells a broker probe upstream where they go.
    if (view?.outputForSniff) offerRoute(node, view.outputForSniff);
    if (!view) node.status({ fill: 'red', shape: 'ring', text: t('status.unknownView', { view: String(config.view ?? '') }) });
    // The scan history the report writers add to (one per runtime). A history that cannot be opened
    // leaves ctx.history undefined: the history views say so, everything else works as before.
    const historyReady = historyOf(RED).then(
      (history) => {
        ctx.history = history;
      },
      (err: Error) => node.warn(t('warn.history', { message: err.message })),
    );

    onInput(node, async (msg, send) => {
      if (!view) throw new Error(t('errors.unknownView', { view: String(config.view ?? '') }));
      // Only the history's views wait: the others run at once, in the order their messages came.
      if (view.usesHistory) await historyReady;
      const outputs = view.input(msg as unknown as ViewMessage, ctx);
      if (outputs && hasMessage(outputs)) send(outputs as unknown as NodeMessage[]);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      try {
        view?.close?.(ctx);
      } finally {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        ctx.memory.clear();
        done();
      }
    });
  });

function hasMessage(outputs: ViewOutputs): boolean {
  return outputs.some((m) => m !== null && m !== undefined);
}

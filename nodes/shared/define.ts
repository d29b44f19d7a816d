// Registers one of our node types: createNode, then the node's setup with its settings and a
// translator for its own i18n catalog (nodes/locales/en-US/<type>.json).
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { I18nVars } from './types';

/** `t('status.done', {n: 3})` -> the node type's own message "status.done". */
export type Translate = (key: string, vars?: I18nVars) => string;

/**
 * RED.nodes.registerType(type, ...) with a constructor that calls RED.nodes.createNode and then
 * `setup(node, config, t)`. Whatever setup throws reaches Node-RED's own error handling for a
 * node that failed to start.
 */
export function defineNode<D extends NodeDef>(RED: NodeAPI, type: string, setup: (node: Node, config: D, t: Translate) => void): void {
  RED.nodes.registerType(type, function (this: Node, config: D) {
    RED.nodes.createNode(this, config);
    setup(this, config, (key, vars) => RED._(`${type}.${key}`, vars));
  });
}

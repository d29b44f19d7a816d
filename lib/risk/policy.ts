// A lab's own policy: raise or lower a rule's severity, or switch it off.
import type { Severity } from '../types';
import { RULES, type Rule, type RuleId } from './rules';
import { SEVERITIES } from './scoring';

export interface RuleOverride {
  severity?: Severity;
  enabled?: boolean;
}

export interface Policy {
  overrides?: Partial<Record<RuleId, RuleOverride>> | Record<string, RuleOverride>;
}

/** The rule table with the policy applied; disabled rules are left out. Throws on a typo. */
export function effectiveRules(policy?: Policy): Rule[] {
  const overrides = policy?.overrides ?? {};
  for (const [id, o] of Object.entries(overrides)) {
    if (!RULES.some((r) => r.id === id)) throw new Error(`policy: unknown rule "${id}"`);
    if (o?.severity !== undefined && !SEVERITIES.includes(o.severity)) {
      throw new Error(`policy: rule "${id}": severity must be one of ${SEVERITIES.join(', ')}, got "${String(o.severity)}"`);
    }
  }
  const out: Rule[] = [];
  for (const rule of RULES) {
    const o = (overrides as Record<string, RuleOverride | undefined>)[rule.id];
    if (o?.enabled === false) continue;
    // The lab's severity wins over one the rule would work out from the result.
    out.push(o?.severity ? { ...rule, severity: o.severity, severityFor: undefined } : rule);
  }
  return out;
}

/** The editor's list (rule id -> severity or "off") as a Policy. */
export function policyFromList(list: unknown): Policy {
  if (!Array.isArray(list)) return {};
  const overrides: Record<string, RuleOverride> = {};
  for (const row of list) {
    if (!row || typeof row !== 'object') continue;
    const { id, severity } = row as { id?: unknown; severity?: unknown };
    if (typeof id !== 'string' || id === '' || typeof severity !== 'string' || severity === '') continue;
    overrides[id] = severity === 'off' ? { enabled: false } : { severity: severity as Severity };
  }
  return { overrides };
}

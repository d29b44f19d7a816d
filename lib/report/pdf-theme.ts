// One palette for the whole PDF: a severity or level always has the same colour.
import type { RiskLevel, Severity } from '../types';

export const SEVERITY_COLOR: Record<Severity, string> = {
  critical: '#8e1b1b',
  high: '#d04a12',
  medium: '#b7791f',
  low: '#3b7a45',
  info: '#2b6cb0',
};

export const LEVEL_COLOR: Record<RiskLevel, string> = {
  CRITICAL: SEVERITY_COLOR.critical,
  HIGH: SEVERITY_COLOR.high,
  MEDIUM: SEVERITY_COLOR.medium,
  LOW: SEVERITY_COLOR.low,
};

export const COLOR = {
  brand: '#12304f',
  brandLight: '#dfe8f2',
  text: '#1f2933',
  muted: '#5f6b7a',
  rule: '#cfd6e0',
  zebra: '#f4f6f9',
  tableHead: '#1f3a5f',
  codeBg: '#f1f3f6',
  unrated: '#8a94a3',
  white: '#ffffff',
  /** Text that opens a URL (a table cell with `link`). */
  link: '#1849a9',
};

export const LEVEL_LABEL: Record<RiskLevel, string> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low' };

// The JSON report: everything, for automation (same shape as msg.payload, plus the summary).
import type { ReportInput } from './model';

export const JSON_REPORT_FORMAT = 'mqttsec-report/1';

export function renderJson(input: ReportInput): string {
  return `${JSON.stringify(
    {
      format: JSON_REPORT_FORMAT,
      generatedAt: input.generatedAt.toISOString(),
      meta: input.meta,
      scan: input.scan,
      summary: input.summary,
      results: input.results,
    },
    null,
    2,
  )}\n`;
}

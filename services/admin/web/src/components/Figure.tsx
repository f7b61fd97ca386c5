/** One headline figure of the dashboard. */
import type { ReactNode } from 'react';

interface FigureProps {
  label: string;
  value: string;
  /** `data-testid` of the value, for tests that read it. */
  testId: string;
  hint?: ReactNode;
  tone?: 'bad' | 'warn';
}

export function Figure({ label, value, testId, hint, tone }: FigureProps) {
  return (
    <div className={`figure${tone ? ` figure-${tone}` : ''}`}>
      <dt>{label}</dt>
      <dd className="figure-value" data-testid={testId}>
        {value}
      </dd>
      {hint && <dd className="figure-hint">{hint}</dd>}
    </div>
  );
}

// Figures the company pages share: a stat card, a budget meter, a row of a details list.
import type { ReactNode } from "react";
import { Link } from "../router";

/** A labelled number on a card; `link` makes the label lead to where the number comes from. */
export function Stat({ label, value, link, tone, children }: { label: string; value: ReactNode; link?: string; tone?: "warn"; children?: ReactNode }) {
  return (
    <section className={`card stat${tone ? ` stat-${tone}` : ""}`} aria-label={label}>
      <span className="stat-label">{link ? <Link to={link}>{label}</Link> : label}</span>
      <span className="stat-value">{value}</span>
      {children ? <span className="stat-sub">{children}</span> : null}
    </section>
  );
}

/** How much of a budget is used: amber from 80 %, red from 100 % (where agents stop). */
export function Meter({ percent, label = "Budget used" }: { percent: number; label?: string }) {
  const width = Math.max(0, Math.min(100, percent));
  return (
    <span className="meter" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)} aria-label={label}>
      <span className={percent >= 100 ? "meter-fill bad" : percent >= 80 ? "meter-fill warn" : "meter-fill"} style={{ width: `${width}%` }} />
    </span>
  );
}

/** A term of a details list (`<dl>`), left out when it has nothing to say. */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  if (children === null || children === undefined || children === "") return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

// The board's frame: a sidebar (companies, the chosen company's rooms, settings, who is signed
// in) beside the page.
import { useEffect, type ReactNode } from "react";
import { get } from "../api";
import { useData } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";
import type { Company } from "../types";

const COMPANIES_CHANGED = "paperclip:companies-changed";

/** Pages call this after creating, renaming or archiving a company so the switcher follows. */
export function companiesChanged() {
  window.dispatchEvent(new Event(COMPANIES_CHANGED));
}

export function companyIdOf(path: string): string | null {
  const m = /^\/companies\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

function NavLink({ to, children, exact }: { to: string; children: ReactNode; exact?: boolean }) {
  const { path } = useLocation();
  const active = exact ? path === to : path === to || path.startsWith(`${to}/`);
  return (
    <Link to={to} className={active ? "nav-link active" : "nav-link"} aria-current={active ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { path } = useLocation();
  const { session, authenticated, signOut, health } = useSession();
  const companies = useData(() => get<Company[]>("/companies"), []);
  const reloadCompanies = companies.reload;
  useEffect(() => {
    const again = () => void reloadCompanies();
    window.addEventListener(COMPANIES_CHANGED, again);
    return () => window.removeEventListener(COMPANIES_CHANGED, again);
  }, [reloadCompanies]);
  const current = companyIdOf(path);
  const company = companies.data?.find((c) => c.id === current);

  return (
    <div className="shell">
      <aside className="sidebar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>Paperclip</span>
        </Link>
        <div className="sidebar-section">
          <label className="sidebar-label" htmlFor="company-switch">
            Company
          </label>
          <select
            id="company-switch"
            className="company-switch"
            value={current ?? ""}
            onChange={(e) => navigate(e.target.value ? `/companies/${e.target.value}` : "/")}
          >
            <option value="">All companies</option>
            {(companies.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        {current ? (
          <nav className="sidebar-section" aria-label={company ? company.name : "Company"}>
            <NavLink to={`/companies/${current}`} exact>
              Dashboard
            </NavLink>
            <NavLink to={`/companies/${current}/issues`}>Issues</NavLink>
            <NavLink to={`/companies/${current}/projects`}>Projects</NavLink>
            <NavLink to={`/companies/${current}/goals`}>Goals</NavLink>
            <NavLink to={`/companies/${current}/agents`}>Agents</NavLink>
            <NavLink to={`/companies/${current}/org`}>Org chart</NavLink>
            <NavLink to={`/companies/${current}/runs`}>Runs</NavLink>
            <NavLink to={`/companies/${current}/approvals`}>Approvals</NavLink>
            <NavLink to={`/companies/${current}/costs`}>Costs</NavLink>
            <NavLink to={`/companies/${current}/secrets`}>Secrets</NavLink>
            {authenticated ? <NavLink to={`/companies/${current}/members`}>Members</NavLink> : null}
          </nav>
        ) : (
          <nav className="sidebar-section" aria-label="Instance">
            <NavLink to="/" exact>
              Companies
            </NavLink>
          </nav>
        )}
        <nav className="sidebar-section" aria-label="Settings">
          <span className="sidebar-label">Settings</span>
          <NavLink to="/settings/api-keys">API keys</NavLink>
        </nav>
        <div className="sidebar-foot">
          <div className="who">
            <span className="who-name">{session?.user.name ?? "Board"}</span>
            <span className="who-mode">
              {authenticated ? (health?.deploymentExposure === "public" ? "authenticated · public" : "authenticated") : "local_trusted"}
            </span>
          </div>
          {authenticated && session ? (
            <button
              className="btn btn-ghost"
              onClick={async () => {
                // Even when the server cannot be reached, this browser stops showing the board.
                await signOut().catch(() => undefined);
                navigate("/sign-in", { replace: true });
              }}
            >
              Sign out
            </button>
          ) : null}
        </div>
      </aside>
      <main className="page">{children}</main>
    </div>
  );
}

/** The centred card the sign-in, invite, claim and CLI approval pages use. */
export function Centered({ children }: { children: ReactNode }) {
  return (
    <div className="centered">
      <div className="centered-brand">
        <img src="/favicon.svg" alt="" width={32} height={32} />
        <span>Paperclip</span>
      </div>
      <div className="centered-card">{children}</div>
    </div>
  );
}

// Every page of the board, in one table. Pages marked `open` are reachable signed out (in
// authenticated mode); every other page sends a signed-out visitor to /sign-in and back.
import { useEffect, type ComponentType } from "react";
import { Layout, Centered } from "./components/layout";
import { Button, ErrorNote, Loading } from "./components/ui";
import { match, navigate, useLocation } from "./router";
import { useSession } from "./session";
import { SignIn } from "./pages/access/sign-in";
import { SignUp } from "./pages/access/sign-up";
import { Invite } from "./pages/access/invite";
import { BoardClaim } from "./pages/access/board-claim";
import { CliAuth } from "./pages/access/cli-auth";
import { ApiKeys } from "./pages/access/api-keys";
import { Companies } from "./pages/company/companies";
import { Dashboard } from "./pages/company/dashboard";
import { Issues } from "./pages/company/issues";
import { IssueDetail } from "./pages/company/issue";
import { Projects } from "./pages/company/projects";
import { Goals } from "./pages/company/goals";
import { Agents } from "./pages/company/agents";
import { AgentDetail } from "./pages/company/agent";
import { Approvals } from "./pages/company/approvals";
import { Costs } from "./pages/company/costs";
import { Members } from "./pages/company/members";
import { Org } from "./pages/company/org";
import { Runs } from "./pages/company/runs";
import { RunDetail } from "./pages/company/run";
import { Secrets } from "./pages/company/secrets";
import { NotFound } from "./pages/not-found";

type Params = Record<string, string>;
interface Route {
  path: string;
  page: ComponentType<{ params: Params }>;
  /** Reachable without signing in; shown without the sidebar. */
  open?: boolean;
}

const routes: Route[] = [
  { path: "/sign-in", page: SignIn, open: true },
  { path: "/sign-up", page: SignUp, open: true },
  { path: "/invite/:token", page: Invite, open: true },
  { path: "/board-claim/:token", page: BoardClaim, open: true },
  { path: "/cli-auth/:id", page: CliAuth, open: true },
  { path: "/", page: Companies },
  { path: "/settings/api-keys", page: ApiKeys },
  { path: "/companies/:companyId", page: Dashboard },
  { path: "/companies/:companyId/issues", page: Issues },
  { path: "/companies/:companyId/issues/:issueId", page: IssueDetail },
  { path: "/companies/:companyId/projects", page: Projects },
  { path: "/companies/:companyId/goals", page: Goals },
  { path: "/companies/:companyId/agents", page: Agents },
  { path: "/companies/:companyId/agents/:agentId", page: AgentDetail },
  { path: "/companies/:companyId/approvals", page: Approvals },
  { path: "/companies/:companyId/org", page: Org },
  { path: "/companies/:companyId/runs", page: Runs },
  { path: "/companies/:companyId/runs/:runId", page: RunDetail },
  { path: "/companies/:companyId/costs", page: Costs },
  { path: "/companies/:companyId/members", page: Members },
  { path: "/companies/:companyId/secrets", page: Secrets },
];

function resolve(path: string): { route: Route | null; params: Params } {
  for (const route of routes) {
    const params = match(route.path, path);
    if (params) return { route, params };
  }
  return { route: null, params: {} };
}

export function App() {
  const { path, search } = useLocation();
  const { loading, error, session, authenticated, refresh } = useSession();
  const { route, params } = resolve(path);
  const needsSignIn = !loading && !error && authenticated && !session && route !== null && !route.open;

  useEffect(() => {
    if (needsSignIn) {
      const next = path + (search.toString() ? `?${search}` : "");
      navigate(`/sign-in?next=${encodeURIComponent(next)}`, { replace: true });
    }
  }, [needsSignIn, path, search]);

  if (loading) return <Loading what="Connecting to the server" />;
  if (error)
    return (
      <Centered>
        <h1>Cannot reach the server</h1>
        <ErrorNote error={error} />
        <Button onClick={() => void refresh()}>Try again</Button>
      </Centered>
    );
  if (!route)
    return (
      <Layout>
        <NotFound />
      </Layout>
    );
  if (needsSignIn) return <Loading what="Signing in" />;
  const Page = route.page;
  // Pages keyed by path so a page's state starts fresh when its parameters change.
  if (route.open) return <Page key={path} params={params} />;
  return (
    <Layout>
      <Page key={path} params={params} />
    </Layout>
  );
}

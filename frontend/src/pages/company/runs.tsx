import { PageHeader } from "../../components/ui";

export function Runs(_: { params: Record<string, string> }) {
  return <PageHeader title="Runs" />;
}

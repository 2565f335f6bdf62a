import { PageHeader } from "../../components/ui";

export function Org(_: { params: Record<string, string> }) {
  return <PageHeader title="Org" />;
}

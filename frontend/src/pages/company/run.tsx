import { PageHeader } from "../../components/ui";

export function RunDetail(_: { params: Record<string, string> }) {
  return <PageHeader title="RunDetail" />;
}

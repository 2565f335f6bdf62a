// What a company page shows for a company that does not exist or that the viewer may not see
// (the server answers both with 404, so the page cannot tell them apart either).
import { Empty } from "../../components/ui";
import { Link } from "../../router";

export function CompanyNotFound() {
  return (
    <Empty title="Company not found">
      It does not exist, or you have no access to it. <Link to="/">See your companies</Link>
    </Empty>
  );
}

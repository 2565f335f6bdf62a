import { Link } from "../router";
import { Empty } from "../components/ui";

export function NotFound() {
  return (
    <Empty title="There is no page here">
      <Link to="/">Go to your companies</Link>
    </Empty>
  );
}

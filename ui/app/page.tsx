import { TernApp } from '../components/tern-app';

// The page is a static shell; everything session-related is fetched by the browser from the API
// whose address /api/config gives at runtime.
export default function Home() {
  return <TernApp />;
}

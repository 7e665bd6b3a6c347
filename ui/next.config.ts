import type { NextConfig } from 'next';

// The browser learns the API and gateway addresses at request time from /api/config, so nothing
// here depends on the environment: one build serves any host, and no env value is inlined.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  typedRoutes: false,
  poweredByHeader: false,
  productionBrowserSourceMaps: false,
};

export default nextConfig;

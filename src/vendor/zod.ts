// The one import of zod. The build replaces this module in dist/ with zod bundled into one file
// (scripts/bundle-vendor.mjs): zod's 95 ES modules cost every command ~45 ms to load, one file ~25.
export { z } from 'zod';

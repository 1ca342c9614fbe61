/**
 * The toolkit's version, recorded in evidence. A constant rather than a read of package.json,
 * so the action bundles carry it too; test/version.test.ts keeps it equal to package.json's.
 */
export const toolkitVersion = "0.1.0";

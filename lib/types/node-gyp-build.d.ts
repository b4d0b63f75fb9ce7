// node-gyp-build ships no types; these cover the two calls the loader makes.
declare module 'node-gyp-build' {
  interface NodeGypBuild {
    (dir: string): unknown;
    /** Path of the binary that would be loaded; throws when none matches. */
    resolve(dir: string): string;
  }
  const nodeGypBuild: NodeGypBuild;
  export default nodeGypBuild;
}

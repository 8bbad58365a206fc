// @simplewebauthn/server → @peculiar/x509 → tsyringe needs the Reflect metadata polyfill loaded
// first. The library imports it itself, but in the compiled binary Bun's bundler runs that
// CommonJS side-effect import after the ES modules next to it; an ES module of our own, imported
// first, keeps its place in the order.
import "reflect-metadata";

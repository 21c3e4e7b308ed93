// The process's entry point: it runs on the Node.js the project needs, or refuses with one line
// before anything else is loaded (a host's older Node.js would fail later, in a less clear way).
const MAJOR = 24;
const running = Number(process.versions.node.split('.')[0]);
if (running < MAJOR) {
  process.stderr.write(
    `[numos] NuMos demande Node.js ${MAJOR} ou plus récent ; celui-ci est ${process.versions.node}. Lancez-le par npm (npm start, npm run serve) ou avec Node.js ${MAJOR}.\n`,
  );
  process.exit(2);
}
await import('./index.js');

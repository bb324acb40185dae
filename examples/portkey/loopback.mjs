// Preload for the Portkey gateway: it binds every interface and has no host flag, so pin `listen` to
// 127.0.0.1 (node --import ./loopback.mjs .../start-server.js). See shared/research/pitfalls.md.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args[1] == null || typeof args[1] === 'function')) {
    if (args[1] == null) args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};

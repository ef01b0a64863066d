/**
 * MySQL/MariaDB checks over the wire protocol (no client library): read the server's handshake and
 * report its version; with a user configured, authenticate with mysql_native_password and send
 * COM_PING. Packets are a 3-byte little-endian length, a sequence number and the payload.
 */
import { createHash } from 'node:crypto';
import { connectGuarded, readUntil } from './socket.ts';
import { down, errorMessage, noPhases, round, type CheckContext, type CheckResult } from './result.ts';
import type { MysqlSpec } from './spec.ts';

/** One protocol packet. */
export interface Packet {
  seq: number;
  payload: Buffer;
}

/** The first complete packet in `buf`, or undefined while incomplete. */
export function readPacket(buf: Buffer): Packet | undefined {
  if (buf.length < 4) return undefined;
  const len = buf.readUIntLE(0, 3);
  if (buf.length < 4 + len) return undefined;
  return { seq: buf[3]!, payload: buf.subarray(4, 4 + len) };
}

/** Frames a payload as a packet. */
export function writePacket(seq: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = seq;
  return Buffer.concat([head, payload]);
}

/** What the server says first. */
export interface Handshake {
  protocol: number;
  version: string;
  connectionId: number;
  scramble: Buffer;
  plugin: string;
}

/** The message of an ERR packet (0xff, code, optional '#' + SQL state, message). */
export function errPacketMessage(p: Buffer): string {
  const code = p.readUInt16LE(1);
  let msg = p.subarray(3).toString('utf8');
  if (msg.startsWith('#')) msg = msg.slice(6);
  return `${code}: ${msg}`;
}

/** Parses the initial handshake (protocol 10). */
export function parseHandshake(p: Buffer): Handshake {
  if (p[0] === 0xff) throw new Error(`server refused the connection: ${errPacketMessage(p)}`);
  if (p[0] !== 10) throw new Error(`unexpected handshake protocol ${p[0]}`);
  let i = 1;
  const end = p.indexOf(0, i);
  const version = p.subarray(i, end).toString('utf8');
  i = end + 1;
  const connectionId = p.readUInt32LE(i);
  i += 4;
  const part1 = p.subarray(i, i + 8);
  i += 9; // 8 bytes + filler
  i += 2 + 1 + 2 + 2; // capability (low), charset, status, capability (high)
  const authLen = p[i] ?? 0;
  i += 1 + 10;
  const part2Len = Math.max(13, authLen - 8);
  const part2 = p.subarray(i, i + part2Len);
  i += part2Len;
  const pluginEnd = p.indexOf(0, i);
  const plugin = i < p.length ? p.subarray(i, pluginEnd < 0 ? p.length : pluginEnd).toString('utf8') : '';
  // The scramble is 20 bytes; part 2 carries a trailing NUL.
  const scramble = Buffer.concat([part1, part2]).subarray(0, 20);
  return { protocol: 10, version, connectionId, scramble, plugin };
}

/** mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for no password. */
export function nativePassword(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest();
  const h1 = sha1(password);
  const h3 = sha1(Buffer.concat([scramble, sha1(h1)]));
  return Buffer.from(h1.map((b, k) => b ^ h3[k]!));
}

const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH = 0x80000;

/** HandshakeResponse41 for mysql_native_password. */
export function handshakeResponse(user: string, password: string, scramble: Buffer): Buffer {
  const caps = Buffer.alloc(32);
  caps.writeUInt32LE(CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH, 0);
  caps.writeUInt32LE(16 * 1024 * 1024, 4);
  caps[8] = 33; // utf8_general_ci
  const auth = nativePassword(password, scramble);
  return Buffer.concat([caps, Buffer.from(`${user}\0`), Buffer.from([auth.length]), auth, Buffer.from('mysql_native_password\0')]);
}

/** Reads the handshake; with a user, authenticates and pings. */
export async function checkMysql(spec: MysqlSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  let c;
  try {
    c = await connectGuarded(spec.host, spec.port, ctx.policy, ctx.timeoutMs);
    const socket = c.socket;
    const budget = () => ctx.timeoutMs - (performance.now() - started);
    const q0 = performance.now();
    const hello = await readUntil(socket, budget(), readPacket);
    const firstByteMs = round(performance.now() - q0);
    const hs = parseHandshake(hello.payload);
    const details: Record<string, unknown> = { address: c.address, version: hs.version };
    if (spec.user !== undefined) {
      socket.write(writePacket(hello.seq + 1, handshakeResponse(spec.user, spec.password, hs.scramble)));
      let reply = await readUntil(socket, budget(), readPacket);
      if (reply.payload[0] === 0xfe) {
        // Auth switch request: the server wants another plugin (or a fresh scramble) first.
        const nameEnd = reply.payload.indexOf(0, 1);
        const plugin = reply.payload.subarray(1, nameEnd).toString('utf8');
        if (plugin !== 'mysql_native_password') throw new Error(`server asks for auth plugin ${plugin}, which this check does not speak`);
        const scramble = reply.payload.subarray(nameEnd + 1, nameEnd + 21);
        socket.write(writePacket(reply.seq + 1, nativePassword(spec.password, scramble)));
        reply = await readUntil(socket, budget(), readPacket);
      }
      if (reply.payload[0] === 0xff) throw new Error(`authentication failed: ${errPacketMessage(reply.payload)}`);
      if (reply.payload[0] !== 0x00) throw new Error(`unexpected authentication reply 0x${reply.payload[0]?.toString(16)}`);
      socket.write(writePacket(0, Buffer.from([0x0e]))); // COM_PING
      const pong = await readUntil(socket, budget(), readPacket);
      if (pong.payload[0] !== 0x00) throw new Error(`COM_PING failed${pong.payload[0] === 0xff ? `: ${errPacketMessage(pong.payload)}` : ''}`);
      details.ping = 'ok';
      socket.write(writePacket(0, Buffer.from([0x01]))); // COM_QUIT
    }
    return { ok: true, status: 'up', latencyMs: round(performance.now() - started), phases: { ...noPhases(), dnsMs: c.dnsMs, connectMs: c.connectMs, firstByteMs }, details };
  } catch (err) {
    return down(performance.now() - started, errorMessage(err), noPhases(), { host: spec.host, port: spec.port });
  } finally {
    c?.socket.destroy();
  }
}

// The Portcullis frontend bridge, injected into the main frame before any page script.
//
// It is a classic script, not an ES module, because webview initialization scripts run
// as classic scripts; running first is what lets it keep its own references to the
// builtins it uses, so page code that later overrides JSON, postMessage or Promise
// cannot break or observe the bridge's plumbing.
//
// Page API (window.portcullis, frozen, non-writable):
//   invoke(cmd, args?, {signal, timeoutMs}?) -> Promise<result>
//                                                          rejects with a PortcullisError
//                                                          {code, message, appCode?, data?}
//                                                          (an abort: E_CANCELLED; a
//                                                          timeout: E_TIMEOUT; either one
//                                                          cancels the handler too)
//   emit(event, payload?) -> Promise<void>                 resolves once the core accepted it
//   listen(event, handler) -> unlisten()                   core-to-frontend events
//   ready() -> Promise<void>                               resolves once calls can be sent
//                                                          (rejects like a call would)
//   PortcullisError                                        the class of every rejection
//   Channel(onmessage)                                     core-to-frontend messages: pass it
//                                                          as a top-level argument; see below
//   openStream(cmd, meta?) -> WritableStream               frontend-to-core bytes; its
//                                                          `result` promise settles with the
//                                                          handler's result; see below
//
// The bridge is a convenience, not a security boundary: the main frame is untrusted, and
// every message is checked by the isolation frame's hook and by the Rust gate.

(() => {
  "use strict";
  const config = globalThis.__PORTCULLIS_CONFIG__;
  delete globalThis.__PORTCULLIS_CONFIG__;

  const { apply } = Reflect;
  const { defineProperty, freeze } = Object;
  const { parse, stringify } = JSON;
  const { isView } = ArrayBuffer;
  const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
  const contentWindowOf = getter(HTMLIFrameElement.prototype, "contentWindow");
  const sourceOf = getter(MessageEvent.prototype, "source");
  const dataOf = getter(MessageEvent.prototype, "data");
  const listen = EventTarget.prototype.addEventListener;
  const appendChild = Node.prototype.appendChild;
  const isConnectedOf = getter(Node.prototype, "isConnected");
  const NativeMutationObserver = MutationObserver;
  const observe = MutationObserver.prototype.observe;
  const disconnect = MutationObserver.prototype.disconnect;
  const createElement = Document.prototype.createElement;
  const setAttribute = Element.prototype.setAttribute;
  const hasOwn = Object.prototype.hasOwnProperty;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapDelete = Map.prototype.delete;
  const NativeWeakMap = WeakMap;
  const weakMapGet = WeakMap.prototype.get;
  const weakMapSet = WeakMap.prototype.set;
  const nativeFetch = globalThis.fetch;
  const nativeSetTimeout = globalThis.setTimeout;
  const nativeCrypto = globalThis.crypto;
  const getRandomValues = Crypto.prototype.getRandomValues;
  const NativeUint32Array = Uint32Array;
  const nativeClearTimeout = globalThis.clearTimeout;
  const NativeError = Error;
  const NativePromise = Promise;
  const NativeMap = Map;
  const NativeUint8Array = Uint8Array;
  const NativeAbortSignal = AbortSignal;
  const abortedOf = getter(AbortSignal.prototype, "aborted");
  const reasonOf = getter(AbortSignal.prototype, "reason");
  const unlisten = EventTarget.prototype.removeEventListener;
  const HEX = "0123456789abcdef";
  // Marks the time a call passed a stage: nothing, unless the e2e bench's profile build
  // (portcullis-wry's `profile` feature) ran its marks script between the config and
  // this one, which hands its function over in the config.
  const mark =
    Object.prototype.hasOwnProperty.call(config, "mark") && typeof config.mark === "function"
      ? config.mark
      : () => {};
  // The protocol's constants, as Rust defines them (portcullis-wry's protocol.rs), handed
  // over in the config.
  const PROTOCOL = config.protocol;
  /** How many of a stream's chunks may be unanswered at once. */
  const STREAM_WINDOW = PROTOCOL.streamWindow;
  /** Channel frame types: a JSON message, a bytes message, the channel's end. */
  const FRAMES = PROTOCOL.channelFrames;
  const CANCEL_NAME = PROTOCOL.names.cancel;
  const MAX_REASON = PROTOCOL.maxReason;
  const { ipcUrl: IPC_URL, channelUrl: CHANNEL_URL, replyHeader: INLINE_REPLY } = PROTOCOL.transport;
  const BODY_HEADER = PROTOCOL.transport.bodyHeader;
  // Brownfield mode's way to the gate (isolation-app/transport.js does the same for the
  // isolation frame): the engine's native handler when Rust registered one, else fetch.
  const nativeHandler = (() => {
    const handlers = globalThis.webkit && globalThis.webkit.messageHandlers;
    const handler = handlers && handlers[PROTOCOL.transport.nativeHandler];
    return handler && typeof handler.postMessage === "function" ? handler : null;
  })();
  const nativePost = nativeHandler && nativeHandler.postMessage;
  const nativeBtoa = globalThis.btoa;
  const nativeAtob = globalThis.atob;
  // The engine's own base64 conversions, where it has them (WebKitGTK 2.48 and later).
  const toBase64 = Uint8Array.prototype.toBase64;
  const fromBase64 = Uint8Array.fromBase64;
  // A typed array's own facts, read through the getters as they were (page code may
  // replace %TypedArray%.prototype's later).
  const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
  const bufferOf = getter(typedArrayProto, "buffer");
  const byteOffsetOf = getter(typedArrayProto, "byteOffset");
  const typedLengthOf = getter(typedArrayProto, "length");
  const fromCharCode = String.fromCharCode;
  const NativeTextEncoder = TextEncoder;
  const encode = TextEncoder.prototype.encode;
  const stringSlice = String.prototype.slice;
  const charCodeAt = String.prototype.charCodeAt;

  const pending = new NativeMap();
  // Callers of ready(), settled when the frame is ready or calls can no longer be sent.
  const waiting = [];
  const listeners = new NativeMap();
  // Requests made before the frame was ready, in order: queue[head] .. queue[tail - 1].
  // A null-prototype object indexed by number, not an array: array methods, iteration
  // and index setters can be replaced by page script, which would then see the requests
  // (a stream's writer key among them).
  const queue = { __proto__: null };
  let queueHead = 0;
  let queueTail = 0;
  let nextId = 1;
  // The isolation frame's window, once it said it is ready. Messages go to it with
  // window.postMessage: a MessageChannel port is brokered through another WebKit process
  // and cost about 300 µs a round trip here, window messages about 10 µs.
  let isolation = null;
  // The isolation frame element: a call is only posted while it is still in the page.
  let isolationFrame = null;
  let failure = null;
  // Brownfield mode's encoders (the sealer module, without sealing).
  let encodeRequest = null;
  let encodeClearChunk = null;
  let chunkPlaintext = null;
  // Channel pulls waiting for the isolation frame's answer: token -> resolve.
  const pulls = new NativeMap();
  // The pull loops running: channel id -> { answered } (whether its call was answered),
  // from the loop's start to its end.
  const liveChannels = new NativeMap();
  // How a call starts a channel's pull loop once it is sent: channel -> start().
  const channelStarters = new NativeWeakMap();
  // Stream chunks waiting for their answer: token -> {resolve, reject}.
  const chunks = new NativeMap();
  const NativeWritableStream = WritableStream;
  const CHANNEL_PREFIX = PROTOCOL.channelPrefix;
  const NativeDataView = DataView;
  const decoder = new TextDecoder();
  const decode = TextDecoder.prototype.decode;

  /** What every promise of the bridge rejects with: `instanceof` works. */
  class PortcullisError extends NativeError {
    constructor(code, message, options = {}) {
      super(message, options.cause === undefined ? undefined : { cause: options.cause });
      this.name = "PortcullisError";
      this.code = code;
      if (options.appCode !== undefined) this.appCode = options.appCode;
      if (options.data !== undefined) this.data = options.data;
    }
  }
  freeze(PortcullisError.prototype);
  freeze(PortcullisError);

  /**
   * A channel from the core: pass it as a top-level member of a command's arguments
   * (`invoke("download", {url, progress: channel})`); the handler takes it and sends
   * messages, which reach `onmessage` in order (JSON as the value, bytes as a
   * Uint8Array). `onclose` runs once when the handler is done with it, or the call
   * failed, or `close()` was called. It travels as the string `portcullis:channel:<id>`
   * (the id: 128 random bits), which the hook and the allowlist's schema see.
   */
  class Channel {
    #id;
    #started = false;
    #closed = false;
    constructor(onmessage) {
      if (onmessage !== undefined && typeof onmessage !== "function") {
        throw new TypeError("new Channel(onmessage): onmessage must be a function");
      }
      // Own function-valued members make a Channel nested deeper than the top level of
      // the arguments fail to send (a structured clone refuses functions) instead of
      // arriving as an empty object.
      this.onmessage = onmessage || null;
      this.onclose = null;
      const bytes = apply(getRandomValues, nativeCrypto, [new NativeUint8Array(16)]);
      let hex = "";
      for (const b of bytes) hex += (b < 16 ? "0" : "") + b.toString(16);
      this.#id = hex;
      apply(weakMapSet, channelStarters, [this, () => {
        if (this.#started || this.#closed) return;
        this.#started = true;
        pullLoop(this, this.#id, () => this.#end()).catch(() => {});
      }]);
    }
    get id() {
      return this.#id;
    }
    get closed() {
      return this.#closed;
    }
    /** The argument the core sees. Messages are pulled once a call carrying it is sent. */
    toJSON() {
      return CHANNEL_PREFIX + this.#id;
    }
    /** Stops taking messages; the handler's next send fails. */
    close() {
      if (this.#closed) return;
      const started = this.#started;
      this.#end();
      if (started) pull(`close ${this.#id}`).catch(() => {});
    }
    #end() {
      if (this.#closed) return false;
      this.#closed = true;
      const onclose = this.onclose;
      if (typeof onclose === "function") {
        try {
          onclose();
        } catch (e) {
          console.error("portcullis: a channel's onclose threw", e);
        }
      }
      return true;
    }
  }
  freeze(Channel.prototype);
  freeze(Channel);

  /**
   * Brownfield mode: one message (bytes, or a channel pull's text) straight to the gate,
   * the way Rust chose (see isolation-app/transport.js); resolves to
   * {ok: true, json} | {ok: true, bytes} | {ok: false, error}.
   */
  async function exchange(url, message) {
    const unavailable = (e) => ({ ok: false, error: { code: "E_ISOLATION_UNAVAILABLE", message: String(e) } });
    const unreadable = (what) => ({ ok: false, error: { code: "E_INTERNAL", message: `unreadable error reply (${what})` } });
    if (nativeHandler) {
      // One marked string each way (portcullis-wry's src/engine/native_form.rs).
      let value;
      try {
        const sent = typeof message === "string" ? "C" + message : "E" + base64(message);
        value = await apply(nativePost, nativeHandler, [sent]);
      } catch (e) {
        return unavailable(e);
      }
      if (typeof value !== "string" || value.length === 0) return unreadable("native answer");
      if (value[0] === "#") {
        try {
          return { ok: true, bytes: bytesOfBase64(apply(stringSlice, value, [1])) };
        } catch (e) {
          return unreadable("native bytes answer");
        }
      }
      const text = apply(stringSlice, value, [1]);
      if (value[0] === "=") return { ok: true, json: text };
      try {
        return { ok: false, error: parse(text) };
      } catch (e) {
        return unreadable("native error answer");
      }
    }
    const init = BODY_HEADER
      ? { method: "POST", headers: { [BODY_HEADER]: base64(message) } }
      : { method: "POST", body: message };
    let response;
    try {
      response = await apply(nativeFetch, globalThis, [url, init]);
    } catch (e) {
      return unavailable(e);
    }
    // A short JSON reply comes in a header too: no wait for the body (transport/http.rs).
    const inline = response.headers.get(INLINE_REPLY);
    if (inline !== null) {
      if (response.ok) return { ok: true, json: inline };
      try {
        return { ok: false, error: parse(inline) };
      } catch (e) {
        return unreadable(`HTTP ${response.status}`);
      }
    }
    const type = response.headers.get("content-type") || "";
    if (response.ok && type.startsWith("application/octet-stream")) return { ok: true, bytes: await response.arrayBuffer() };
    if (response.ok) return { ok: true, json: await response.text() };
    try {
      return { ok: false, error: await response.json() };
    } catch (e) {
      return unreadable(`HTTP ${response.status}`);
    }
  }

  /**
   * Bytes (a Uint8Array) as a string of one character per byte, for btoa where the engine
   * has no toBase64 (WebKitGTK before 2.48). Read byte by byte through a view of its own:
   * no species constructor, no `length` or `buffer` getter the page may have replaced.
   */
  function latin1(bytes) {
    const length = apply(typedLengthOf, bytes, []);
    const view = new NativeUint8Array(apply(bufferOf, bytes, []), apply(byteOffsetOf, bytes, []), length);
    let text = "";
    for (let i = 0; i < length; i++) text += fromCharCode(view[i]);
    return text;
  }

  /** Standard base64 (padded) of bytes (a Uint8Array), or of a string's UTF-8. */
  function base64(message) {
    const bytes = typeof message === "string" ? apply(encode, new NativeTextEncoder(), [message]) : message;
    if (toBase64) return apply(toBase64, bytes, []);
    return nativeBtoa(latin1(bytes));
  }

  /** The bytes (an ArrayBuffer) standard base64 `text` stands for; throws if it is not base64. */
  function bytesOfBase64(text) {
    // A null-prototype options object: no getter the page put on Object.prototype is read.
    if (fromBase64) {
      const bytes = apply(fromBase64, NativeUint8Array, [text, { __proto__: null, lastChunkHandling: "strict" }]);
      return apply(bufferOf, bytes, []);
    }
    const binary = nativeAtob(text);
    const bytes = new NativeUint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = apply(charCodeAt, binary, [i]);
    return apply(bufferOf, bytes, []);
  }

  /** One channel request (`pull <id>` or `close <id>`): the frames, or throws. */
  function pull(body) {
    if (!config.isolation) {
      return exchange(CHANNEL_URL, body).then((reply) => {
        if (!reply.ok) throw portcullisError(reply.error);
        // A close is answered `null`: no frames.
        return reply.bytes || new ArrayBuffer(0);
      });
    }
    return new NativePromise((resolve, reject) => {
      if (!isolation) {
        reject(portcullisError(failure || { code: "E_ISOLATION_UNAVAILABLE", message: "the isolation frame is not ready" }));
        return;
      }
      const words = apply(getRandomValues, nativeCrypto, [new NativeUint32Array(2)]);
      const token = words[0] * 0x200000 + (words[1] >>> 11);
      apply(mapSet, pulls, [token, { resolve, reject }]);
      isolation.postMessage({ pull: body, token }, "*");
    });
  }

  /** Pulls channel `id` until it ends or closes, handing each message to `onmessage`. */
  async function pullLoop(channel, id, end) {
    const live = { __proto__: null, answered: false };
    apply(mapSet, liveChannels, [id, live]);
    try {
      await pullMessages(channel, id, end, live);
    } finally {
      apply(mapDelete, liveChannels, [id]);
    }
  }

  async function pullMessages(channel, id, end, live) {
    await api.ready();
    // The core makes a channel when a handler takes it, so the first pulls (made as the
    // call leaves) may find none yet: they are tried again, a little later each time,
    // until the call was answered. A pull refused after that, or after messages came,
    // means the channel is gone (no handler took it, or it ended).
    let delay = 1;
    let taken = false;
    while (!channel.closed) {
      const answeredBefore = live.answered;
      let frames;
      try {
        frames = await pull(`pull ${id}`);
      } catch (e) {
        if (e && e.code === "E_NO_SUCH_CHANNEL" && !taken && !answeredBefore) {
          await new NativePromise((resolve) => nativeSetTimeout(resolve, delay));
          delay = Math.min(delay * 2, 16);
          continue;
        }
        if (!(e && e.code === "E_NO_SUCH_CHANNEL" && !taken)) {
          console.error(`portcullis: channel ${id} failed: ${e && e.message}`);
        }
        end();
        return;
      }
      taken = true;
      if (channel.closed) return;
      const view = new NativeDataView(frames);
      let at = 0;
      while (at + 5 <= frames.byteLength) {
        const type = view.getUint8(at);
        const length = view.getUint32(at + 1);
        const data = new NativeUint8Array(frames, at + 5, length);
        at += 5 + length;
        if (type === FRAMES.end) {
          end();
          return;
        }
        let message;
        try {
          message = type === FRAMES.json ? parse(apply(decode, decoder, [data])) : data;
        } catch (e) {
          console.error(`portcullis: unreadable message on channel ${id}`, e);
          continue;
        }
        const onmessage = channel.onmessage;
        if (typeof onmessage !== "function") continue;
        try {
          onmessage(message);
        } catch (e) {
          console.error(`portcullis: a channel's onmessage threw`, e);
        }
      }
    }
  }

  /**
   * 128 random bits in hex, made without a method page script could have replaced (a
   * `toString` or an iterator would see the bits).
   */
  function randomKey() {
    const bytes = apply(getRandomValues, nativeCrypto, [new NativeUint8Array(16)]);
    let hex = "";
    for (let i = 0; i < 16; i++) {
      const b = bytes[i];
      hex += HEX[b >> 4] + HEX[b & 15];
    }
    return hex;
  }

  /**
   * A chunk's answer, from the frame (isolation) or the gate (brownfield). `writer` is
   * the stream's writer key: the frame seals chunks only for the key the open carried.
   */
  function chunkCall(id, writer, message, transfer) {
    return new NativePromise((resolve, reject) => {
      if (failure) {
        reject(portcullisError(failure));
        return;
      }
      if (!config.isolation) {
        const body = encodeClearChunk(id, message.number, chunkPlaintext(message));
        exchange(IPC_URL, body).then((reply) => {
          if (!reply.ok) reject(portcullisError(reply.error));
          else resolve(reply.json === undefined || reply.json === "" ? null : parse(reply.json));
        });
        return;
      }
      if (!isolation || !apply(isConnectedOf, isolationFrame, [])) {
        reject(portcullisError({ code: "E_ISOLATION_UNAVAILABLE", message: "the isolation frame is gone" }));
        return;
      }
      const words = apply(getRandomValues, nativeCrypto, [new NativeUint32Array(2)]);
      const key = words[0] * 0x200000 + (words[1] >>> 11);
      apply(mapSet, chunks, [key, { resolve, reject }]);
      isolation.postMessage({ ...message, chunk: id, writer, key }, "*", transfer);
    });
  }

  /**
   * Opens a stream to the core's stream handler `name` with JSON metadata `meta`: the
   * open passes the validation hook (kind "stream") and the allowlist, then every chunk
   * written is sealed in order. Returns a WritableStream of Uint8Array / ArrayBuffer
   * chunks (larger ones are split to fit limits.maxMessageBytes); `result` settles with
   * the handler's result once the stream is closed, or with the refusal.
   */
  function openStream(name, meta) {
    let id = null;
    // Only whoever holds this key can write to the stream (the isolation frame seals
    // chunks only with it). It lives in this closure and in the messages to the frame,
    // which page script cannot read: never in a promise's value or an object the page
    // can reach.
    const writer = randomKey();
    let settleResult;
    const result = new NativePromise((resolve, reject) => (settleResult = { resolve, reject }));
    // Read by the caller at their leisure: a refusal here must not be "unhandled".
    result.catch(() => {});
    let number = 0;
    // Chunks sent and not yet answered, and the first refusal among them.
    const inflight = new Set();
    let broken = null;
    const fail = (e) => {
      settleResult.reject(e);
      throw e;
    };
    const sink = {
      async start() {
        try {
          id = await call("stream", name, meta === undefined ? {} : meta, undefined, writer);
        } catch (e) {
          fail(e);
        }
      },
      async write(chunk) {
        let view;
        if (chunk instanceof ArrayBuffer) view = new NativeUint8Array(chunk);
        else if (isView(chunk)) view = new NativeUint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        else fail(portcullisError({ code: "E_BAD_REQUEST", message: "a stream takes Uint8Array or ArrayBuffer chunks" }));
        const most = config.maxChunkBytes;
        let at = 0;
        do {
          if (broken) fail(broken);
          const part = view.subarray(at, Math.min(at + most, view.byteLength));
          // One byte in front for the chunk's operation: the frame seals this buffer as it is.
          const bytes = new NativeUint8Array(part.byteLength + 1);
          bytes.set(part, 1);
          const sent = chunkCall(id, writer, { bytes, number: number++ }, [bytes.buffer]).catch((e) => {
            // The refusal that says why, not the "closed" of the chunks after it.
            if (!broken || broken.code === "E_STREAM_CLOSED") broken = e;
          });
          inflight.add(sent);
          sent.then(() => inflight.delete(sent));
          // At most STREAM_WINDOW chunks unanswered: the core takes them in any order
          // within it.
          if (inflight.size >= STREAM_WINDOW) await NativePromise.race(inflight);
          at += most;
        } while (at < view.byteLength);
        if (broken) fail(broken);
      },
      async close() {
        await NativePromise.all(inflight);
        if (broken) fail(broken);
        try {
          settleResult.resolve(await chunkCall(id, writer, { end: true, number: number++ }, []));
        } catch (e) {
          fail(e);
        }
      },
      async abort(reason) {
        const why = reason instanceof NativeError ? reason.message : reason === undefined ? "" : String(reason);
        settleResult.reject(portcullisError({ code: "E_CANCELLED", message: `the stream was aborted${why ? `: ${why}` : ""}` }));
        if (id !== null) await chunkCall(id, writer, { abort: why.slice(0, MAX_REASON), number: number++ }, []).catch(() => {});
      },
    };
    const stream = new NativeWritableStream(sink, { highWaterMark: 1 });
    defineProperty(stream, "result", { value: result, enumerable: true });
    return stream;
  }

  /** Top-level Channel members replaced by their argument (a copy; the caller's stays). */
  function withChannels(args, used) {
    if (args === null || typeof args !== "object" || args instanceof ArrayBuffer || isView(args)) return args;
    let copy = null;
    for (const key of Object.keys(args)) {
      const value = args[key];
      if (value instanceof Channel) {
        if (copy === null) copy = Array.isArray(args) ? [...args] : { ...args };
        copy[key] = value.toJSON();
        used.push(value);
      }
    }
    return copy === null ? args : copy;
  }

  function portcullisError(error) {
    return new PortcullisError(error.code, error.message, { appCode: error.appCode, data: error.data });
  }

  function settle(id, reply) {
    const call = apply(mapGet, pending, [id]);
    if (!call) return;
    apply(mapDelete, pending, [id]);
    nativeClearTimeout(call.timer);
    if (call.signal) apply(unlisten, call.signal, ["abort", call.onAbort]);
    try {
      if (!reply.ok) {
        call.reject(portcullisError(reply.error || { code: "E_INTERNAL", message: "malformed reply" }));
      } else if (call.kind === "event") {
        call.resolve(undefined);
      } else if (call.kind === "stream") {
        // The open's answer is the stream's id alone, a number: a promise resolved with an
        // object hands it to page script (resolution reads `then`, which a getter on
        // Object.prototype can answer). The writer key never leaves openStream.
        const stream = parse(reply.json).stream;
        if (typeof stream !== "number") throw new NativeError("the open's answer has no stream id");
        call.resolve(stream);
      } else if (reply.bytes !== undefined) {
        call.resolve(new NativeUint8Array(reply.bytes));
      } else {
        call.resolve(parse(reply.json));
      }
    } catch (e) {
      call.reject(portcullisError({ code: "E_INTERNAL", message: `unreadable reply: ${e}` }));
    }
  }

  /** Takes the queued requests out, oldest first, handing each to `each`. */
  function drainQueue(each) {
    while (queueHead < queueTail) {
      const request = queue[queueHead];
      delete queue[queueHead];
      queueHead += 1;
      each(request);
    }
  }

  function failAll(code, message) {
    failure = { code, message };
    drainQueue(() => {});
    for (const w of waiting.splice(0)) w.reject(portcullisError(failure));
    for (const waiters of [pulls, chunks]) {
      for (const token of [...waiters.keys()]) {
        apply(mapGet, waiters, [token]).reject(portcullisError(failure));
        apply(mapDelete, waiters, [token]);
      }
    }
    for (const id of [...pending.keys()]) settle(id, { ok: false, error: failure });
  }

  /** Sends one request; a request that cannot be sent fails alone, with a clear code. */
  function transmit(request) {
    // A call abandoned while it waited in the queue is not sent at all.
    const call = apply(mapGet, pending, [request.id]);
    if (!call) return;
    call.sent = true;
    mark(call, "post");
    try {
      send(request);
    } catch (e) {
      settle(request.id, { ok: false, error: { code: "E_BAD_REQUEST", message: `cannot send this call: ${e}` } });
    }
  }

  function send(request) {
    if (config.isolation) {
      if (!apply(isConnectedOf, isolationFrame, [])) {
        frameGone();
        settle(request.id, { ok: false, error: failure });
        return;
      }
      const transfer = request.bytes ? [request.bytes.buffer] : [];
      // A cross-origin window's postMessage cannot be replaced by page scripts.
      isolation.postMessage(request, "*", transfer);
      return;
    }
    // Brownfield mode (isolation off, insecure): the plain request straight to the core.
    const body = request.bytes ? { bytes: request.bytes } : { json: request.json };
    const plain = encodeRequest(request.kind, request.id, request.name, body);
    exchange(IPC_URL, plain).then((reply) => settle(request.id, reply));
  }

  /**
   * The caller gave up on call `id` (its signal aborted, or its own timeout passed): the
   * promise rejects now, and a call already sent is cancelled at the core, which stops
   * its handler.
   */
  function abandon(id, error) {
    const call = apply(mapGet, pending, [id]);
    if (!call) return;
    const sent = call.sent;
    settle(id, { ok: false, error });
    if (!sent || call.kind !== "command") return;
    if (config.isolation) {
      if (isolation) isolation.postMessage({ cancel: id, token: call.token }, "*");
      return;
    }
    if (encodeRequest) {
      const plain = encodeRequest("cancel", id, CANCEL_NAME, { json: "" });
      exchange(IPC_URL, plain);
    }
  }

  function ready() {
    drainQueue(transmit);
    for (const w of waiting.splice(0)) w.resolve(undefined);
  }

  /** Sends one call; `writer` is a stream's writer key (for kind "stream" only). */
  function call(kind, name, args, options, writer) {
    return new NativePromise((resolve, reject) => {
      if (typeof name !== "string") {
        reject(portcullisError({ code: "E_BAD_REQUEST", message: `${kind} name must be a string` }));
        return;
      }
      const id = nextId++;
      // A random token the isolation frame echoes with the reply: page code can post its
      // own requests to the frame with a guessed id, but cannot make their replies
      // settle this call without the token. Page script sees the token only in the
      // call's own reply (window messages reach every listener), when the call is over;
      // so a token authorizes nothing after its reply (a stream's writes take its writer
      // key, which no message to this window carries).
      const words = apply(getRandomValues, nativeCrypto, [new NativeUint32Array(2)]);
      const token = words[0] * 0x200000 + (words[1] >>> 11);
      // No prototype: a setter page script put on Object.prototype would otherwise see
      // the request (its writer key) as its members are assigned below.
      const request = { __proto__: null, id, token, kind, name };
      if (writer !== undefined) request.writer = writer;
      const channels = [];
      try {
        args = withChannels(args, channels);
        if (args instanceof ArrayBuffer || isView(args)) {
          // Copy into a fresh buffer that can be transferred without detaching the caller's.
          const view = args instanceof ArrayBuffer ? new NativeUint8Array(args) : new NativeUint8Array(args.buffer, args.byteOffset, args.byteLength);
          request.bytes = new NativeUint8Array(view);
        } else if (config.isolation) {
          request.args = args === undefined ? {} : args;
        } else {
          request.json = stringify(args === undefined ? {} : args);
        }
      } catch (e) {
        reject(portcullisError({ code: "E_BAD_REQUEST", message: `cannot send these arguments: ${e}` }));
        return;
      }
      const signal = options && options.signal;
      if (signal !== undefined && signal !== null) {
        if (!(signal instanceof NativeAbortSignal)) {
          reject(portcullisError({ code: "E_BAD_REQUEST", message: "options.signal must be an AbortSignal" }));
          return;
        }
        if (apply(abortedOf, signal, [])) {
          reject(portcullisError(aborted(kind, name, signal)));
          return;
        }
      }
      // Without a timeoutMs of its own, the call waits for the core, which answers
      // E_TIMEOUT itself when the command's time is up; the fallback only covers a reply
      // that never comes. setTimeout wraps delays of 2^31 ms and more to 0: clamp.
      const wanted = options && options.timeoutMs;
      const timeoutMs = Math.min(Math.max(wanted || config.fallbackTimeoutMs, 1), 0x7fffffff);
      const timer = nativeSetTimeout(
        () => abandon(id, { code: "E_TIMEOUT", message: `no reply to ${kind} ${name} within ${timeoutMs} ms` }),
        timeoutMs,
      );
      if (channels.length > 0 && kind === "event") {
        reject(portcullisError({ code: "E_BAD_REQUEST", message: "a Channel goes with a command (invoke), not an event" }));
        return;
      }
      // A call that fails closes the channels it carried: no handler will send on them.
      const failed = channels.length === 0 ? reject : (e) => {
        for (const channel of channels) channel.close();
        reject(e);
      };
      // One that was answered tells the channels' pull loops: a channel no handler took
      // by then never will be.
      const answered = channels.length === 0 ? resolve : (value) => {
        for (const channel of channels) {
          const live = apply(mapGet, liveChannels, [channel.id]);
          if (live) live.answered = true;
        }
        resolve(value);
      };
      const entry = { kind, token, resolve: answered, reject: failed, timer, sent: false, signal: null, onAbort: null };
      if (signal) {
        entry.signal = signal;
        entry.onAbort = () => abandon(id, aborted(kind, name, signal));
        apply(listen, signal, ["abort", entry.onAbort, { once: true }]);
      }
      apply(mapSet, pending, [id, entry]);
      if (failure) {
        settle(id, { ok: false, error: failure });
        return;
      }
      if (isolation || (!config.isolation && encodeRequest)) {
        transmit(request);
      } else {
        queue[queueTail] = request;
        queueTail += 1;
      }
      // The call is on its way: its channels start pulling (a call refused before this
      // point started none, so no pull loop outlives it).
      for (const channel of channels) apply(weakMapGet, channelStarters, [channel])();
    });
  }

  function aborted(kind, name, signal) {
    const reason = apply(reasonOf, signal, []);
    const why = reason instanceof NativeError ? reason.message : reason === undefined ? "" : String(reason);
    return { code: "E_CANCELLED", message: `${kind} ${name} was aborted by its caller${why ? `: ${why}` : ""}` };
  }

  /** The isolation frame left the page: its window is gone, and with it the session. */
  function frameGone() {
    isolation = null;
    if (!failure) {
      failAll("E_ISOLATION_UNAVAILABLE", "the isolation frame was removed from the page: reload the page to get a new one");
    }
  }

  function startIsolation() {
    const frame = apply(createElement, document, ["iframe"]);
    apply(setAttribute, frame, ["sandbox", "allow-scripts"]);
    apply(setAttribute, frame, ["src", config.isolationUrl]);
    apply(setAttribute, frame, ["hidden", ""]);
    apply(setAttribute, frame, ["aria-hidden", "true"]);
    let frameWindow = null;
    apply(listen, window, [
      "message",
      (event) => {
        // Only real messages from our frame: not another frame's, not a synthetic event.
        if (!event.isTrusted || frameWindow === null || apply(sourceOf, event, []) !== frameWindow) return;
        const data = apply(dataOf, event, []);
        if (!data || typeof data !== "object") return;
        // Own properties only: a page that polluted Object.prototype cannot make the
        // frame's "ready" look like a reply.
        if (apply(hasOwn, data, ["chunked"]) && typeof data.key === "number") {
          const waiter = apply(mapGet, chunks, [data.key]);
          if (!waiter) return;
          apply(mapDelete, chunks, [data.key]);
          try {
            if (data.ok) waiter.resolve(data.json === undefined ? null : parse(data.json));
            else waiter.reject(portcullisError(data.error || { code: "E_INTERNAL", message: "malformed chunk reply" }));
          } catch (e) {
            waiter.reject(portcullisError({ code: "E_INTERNAL", message: `unreadable chunk reply: ${e}` }));
          }
        } else if (apply(hasOwn, data, ["pulled"]) && typeof data.pulled === "number") {
          const waiter = apply(mapGet, pulls, [data.pulled]);
          if (!waiter) return;
          apply(mapDelete, pulls, [data.pulled]);
          if (data.ok && data.frames instanceof ArrayBuffer) waiter.resolve(data.frames);
          else waiter.reject(portcullisError(data.error || { code: "E_INTERNAL", message: "malformed channel reply" }));
        } else if (apply(hasOwn, data, ["id"]) && typeof data.id === "number") {
          const call = apply(mapGet, pending, [data.id]);
          if (call && apply(hasOwn, data, ["token"]) && data.token === call.token) {
            mark(call, "reply", data);
            settle(data.id, data);
            mark(call, "settled");
          }
        } else if (!apply(hasOwn, data, ["portcullis"])) {
          return;
        } else if (data.portcullis === "ready" && !isolation) {
          mark(null, "frame ready");
          isolation = frameWindow;
          ready();
        } else if (data.portcullis === "unavailable") {
          // The frame is gone or was reloaded without a key: every pending and future
          // call fails now, with a clear code, instead of timing out.
          isolation = null;
          failAll("E_ISOLATION_UNAVAILABLE", data.message);
        }
      },
    ]);
    // The runtime says "ready" (or "unavailable") while its document loads. A frame that
    // loaded without saying either (its script was blocked) or that loads a second time
    // (reloaded, sent elsewhere, or re-inserted by a script: its session is gone either
    // way) fails every pending and future call with a clear code instead of letting them
    // time out.
    let loads = 0;
    apply(listen, frame, [
      "load",
      (event) => {
        if (!event.isTrusted) return;
        loads += 1;
        if (loads === 1) {
          nativeSetTimeout(() => {
            if (!isolation && !failure) {
              failAll("E_ISOLATION_UNAVAILABLE", "the isolation frame loaded but its runtime did not start");
            }
          }, 1000);
        } else {
          isolation = null;
          failAll("E_ISOLATION_UNAVAILABLE", "the isolation frame navigated away from its document");
        }
      },
    ]);
    apply(appendChild, document.documentElement, [frame]);
    mark(null, "frame created");
    frameWindow = apply(contentWindowOf, frame, []);
    isolationFrame = frame;
    // A removed frame sends nothing back, so without this every pending and later call
    // would wait for its timeout. Mutation records are delivered at the next microtask
    // checkpoint; `send` also checks before every post.
    const watcher = new NativeMutationObserver(() => {
      if (!apply(isConnectedOf, frame, [])) {
        apply(disconnect, watcher, []);
        frameGone();
      }
    });
    apply(observe, watcher, [document, { childList: true, subtree: true }]);
  }

  function startBrownfield() {
    import(config.sealerUrl).then(
      (module) => {
        encodeRequest = module.encodeRequest;
        encodeClearChunk = module.encodeClearChunk;
        chunkPlaintext = module.chunkPlaintext;
        ready();
      },
      (e) => failAll("E_ISOLATION_UNAVAILABLE", `could not load the request encoder: ${e}`),
    );
  }

  function deliverEvent(name, payload) {
    const handlers = apply(mapGet, listeners, [name]);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      try {
        handler({ event: name, payload });
      } catch (e) {
        console.error(`portcullis: listener for ${name} threw`, e);
      }
    }
  }

  const api = freeze({
    PortcullisError,
    Channel,
    openStream,
    invoke: (cmd, args, options) => call("command", cmd, args, options),
    emit: (event, payload) => call("event", event, payload, undefined),
    ready: () =>
      new NativePromise((resolve, reject) => {
        if (failure) reject(portcullisError(failure));
        else if (isolation || (!config.isolation && encodeRequest)) resolve(undefined);
        else waiting.push({ resolve, reject });
      }),
    listen(event, handler) {
      let handlers = apply(mapGet, listeners, [event]);
      if (!handlers) {
        handlers = new Set();
        apply(mapSet, listeners, [event, handlers]);
      }
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  });
  defineProperty(globalThis, "portcullis", { value: api, writable: false, configurable: false });
  defineProperty(globalThis, "__portcullis_event__", {
    value: deliverEvent,
    writable: false,
    configurable: false,
  });

  if (config.isolation) startIsolation();
  else startBrownfield();
})();

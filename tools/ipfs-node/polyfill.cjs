// Promise.withResolvers is ES2024 (Node >= 22). Some transitive deps of the
// deprecated js-ipfs resolve to releases that call it; Node 20 lacks it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

// Injected into the browser bundle (scripts/build_browser.mjs): the global
// `Buffer` that farmhashjs (FarmHash for Keras's Hashing layer and hashed OOV
// ids) reads in Node comes from the `buffer` package in browsers.
export { Buffer } from 'buffer';

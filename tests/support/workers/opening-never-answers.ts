/** An opening thread that takes every batch and never answers: for the failure tests. */
export {};

declare const self: Worker;

self.onmessage = () => {};

/**
 * The pure-Java reference backend, written straight from the spec's equations. It is the oracle
 * every other backend is tested against, so it shares no code with them.
 */
package io.jrnn.backend.reference;

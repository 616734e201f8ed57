/** The {@code jrnn} command line (picocli): demo, predict, inspect, env. The only package that may exit the JVM. */
package io.jrnn.cli;

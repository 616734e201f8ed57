/**
 * The weight-layout converter: pure Java, no native code. Canonical form is Keras's standard
 * layout; every other layout converts through it.
 *
 * <p>All arrays are flat row-major {@code float[]}. {@code C} is the input size, {@code H} the
 * hidden size and {@code G} the gate count of the cell. Nothing here may import a native library.
 */
package io.jrnn.weights;

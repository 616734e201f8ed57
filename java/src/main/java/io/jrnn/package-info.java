/**
 * The public API of jrnn: {@link io.jrnn.Device}, {@link io.jrnn.Tensor}, {@link io.jrnn.Sequential},
 * {@link io.jrnn.Outputs} and the exceptions. Layers live in {@code io.jrnn.layers}; nothing here
 * imports a native preset except {@link io.jrnn.Tensor}'s off-heap storage (JavaCPP core only).
 */
package io.jrnn;

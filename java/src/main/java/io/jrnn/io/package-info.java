/**
 * File formats: Keras {@code .h5} / {@code .keras} import ({@link io.jrnn.io.KerasModels}) and
 * {@code .npy}/{@code .npz} arrays ({@link io.jrnn.io.Npy}). No native code.
 */
package io.jrnn.io;

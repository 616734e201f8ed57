/**
 * File formats: Keras {@code .h5} / {@code .keras} import ({@link io.jrnn.io.KerasModels}: file access in
 * {@code KerasArchive}, config mapping in {@code KerasConfig}, weight checks in {@code KerasWeights}) and
 * {@code .npy}/{@code .npz} arrays ({@link io.jrnn.io.Npy}). Pure Java; no native code and no backend choices here.
 */
package io.jrnn.io;

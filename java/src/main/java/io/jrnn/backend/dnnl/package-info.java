/**
 * The oneDNN adapter: the only package that imports {@code org.bytedeco.dnnl}. Fused RNN primitives
 * with weights packed once per layer and cached per input shape.
 */
package io.jrnn.backend.dnnl;

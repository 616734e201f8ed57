package io.jrnn;

/** No backend can run a configuration (for example a Keras feature that jrnn does not implement yet). */
public class UnsupportedConfigurationException extends RuntimeException {
    public UnsupportedConfigurationException(String message) {
        super(message);
    }
}

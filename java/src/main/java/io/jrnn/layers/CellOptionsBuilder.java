package io.jrnn.layers;

/**
 * The arguments the recurrent layers' and the cells' builders share, with Keras 2.3+/3's defaults
 * (tanh, sigmoid, use_bias, unit_forget_bias).
 */
@SuppressWarnings("unchecked")
abstract class CellOptionsBuilder<B extends CellOptionsBuilder<B>> {
    String name;
    int units;
    Activation activation = Activation.TANH;
    Activation recurrentActivation = Activation.SIGMOID;
    boolean useBias = true;
    boolean unitForgetBias = true;
    Long seed;

    public B name(String name) {
        this.name = name;
        return (B) this;
    }

    public B units(int units) {
        this.units = units;
        return (B) this;
    }

    public B activation(Activation activation) {
        this.activation = activation;
        return (B) this;
    }

    /** Keras name; {@code hard_sigmoid} means the Keras 3 definition (use the enum for Keras 2's). */
    public B activation(String kerasName) {
        return activation(Activation.fromKeras(kerasName));
    }

    public B recurrentActivation(Activation recurrentActivation) {
        this.recurrentActivation = recurrentActivation;
        return (B) this;
    }

    /** Keras name; {@code hard_sigmoid} means the Keras 3 definition (use the enum for Keras 2's). */
    public B recurrentActivation(String kerasName) {
        return recurrentActivation(Activation.fromKeras(kerasName));
    }

    public B useBias(boolean useBias) {
        this.useBias = useBias;
        return (B) this;
    }

    /** Initialisation only (LSTM, LSTMCell). */
    public B unitForgetBias(boolean unitForgetBias) {
        this.unitForgetBias = unitForgetBias;
        return (B) this;
    }

    /** Seed for the default initializers. */
    public B seed(long seed) {
        this.seed = seed;
        return (B) this;
    }
}

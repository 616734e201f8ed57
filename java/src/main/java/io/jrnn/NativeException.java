package io.jrnn;

/** A native library call failed: names the library, the function, the status code and its text. */
public class NativeException extends RuntimeException {
    private final String library;
    private final String function;
    private final int status;

    public NativeException(String library, String function, int status, String statusText, Throwable cause) {
        super(library + " " + function + " failed with status " + status + " (" + statusText + ")", cause);
        this.library = library;
        this.function = function;
        this.status = status;
    }

    public String library() {
        return library;
    }

    public String function() {
        return function;
    }

    public int status() {
        return status;
    }
}

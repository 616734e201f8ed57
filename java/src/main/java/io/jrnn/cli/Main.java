package io.jrnn.cli;

/** TEMPORARY: the CLI entry point. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("jrnn");
    }
}

package io.jrnn.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads one zip entry into memory without trusting the zip's size fields: the bytes are counted as
 * they inflate and the read stops at {@link LoadOptions#maxArchiveEntryBytes}, or as soon as an
 * entry past 1 MiB inflates more than {@link LoadOptions#maxCompressionRatio} times its compressed
 * size (a decompression bomb). Nothing is written to disk.
 */
final class BoundedZip {
    /** Entries up to this size are not ratio-checked: small JSON compresses well legitimately. */
    static final long RATIO_FREE_BYTES = 1 << 20;

    private BoundedZip() {
    }

    static byte[] read(ZipFile zip, ZipEntry entry, String source, LoadOptions limits) throws IOException {
        long cap = Math.min(limits.maxArchiveEntryBytes(), Integer.MAX_VALUE - 8);
        long compressed = entry.getCompressedSize();
        String name = entry.getName();
        try (InputStream in = zip.getInputStream(entry)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Math.max(entry.getSize(), 32), Math.min(cap, 1 << 24)));
            byte[] buf = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > cap) {
                    throw new ModelFormatException(source, "zip entry '" + name + "' inflates past " + cap
                            + " bytes (LoadOptions.maxArchiveEntryBytes, -Djrnn.maxArchiveEntryBytes); declared "
                            + entry.getSize() + " bytes");
                }
                if (total > RATIO_FREE_BYTES && compressed > 0 && total / compressed > limits.maxCompressionRatio()) {
                    throw new ModelFormatException(source, "zip entry '" + name + "' inflates more than "
                            + limits.maxCompressionRatio() + " times its compressed size of " + compressed
                            + " bytes (a decompression bomb?); LoadOptions.maxCompressionRatio, -Djrnn.maxCompressionRatio");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }
}

/**
 * The native runtime and what every part of the API shares: {@link dev.wscrt.Crt} (loading, versions,
 * memory counters, logging), {@link dev.wscrt.CrtResource} (ownership of native memory) and
 * {@link dev.wscrt.CrtRuntimeException} (failures with stable names).
 *
 * <p>The native library loads the first time any class of this library that needs it is initialized.
 * Loading fails with an {@link java.lang.UnsatisfiedLinkError} that names the platform found and the
 * platforms supported when this jar has no library for the machine.
 */
package dev.wscrt;

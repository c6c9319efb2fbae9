/**
 * A consumer of the library on the module path: the check that {@code dev.wscrt} works as a named module
 * and exports only its API packages. Built and run by {@code scripts/check-jars.sh}.
 */
module dev.wscrt.modulartest {
    requires dev.wscrt;
}

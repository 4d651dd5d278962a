// Runs before any test file imports src/: a quiet, predictable environment.
process.env.EVNET_LOG_LEVEL ??= "warn";
process.env.EVNET_ENV_FILE = "/dev/null"; // tests never read a developer's .env (an empty settings file)

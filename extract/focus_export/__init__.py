"""Provider-native FOCUS exports (FOCUS 0.5 to 1.3) as a billing source, upgraded to FOCUS 1.3 in dbt."""

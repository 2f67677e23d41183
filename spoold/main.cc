// Placeholder until the daemon scaffold lands.
int main() { return 0; }

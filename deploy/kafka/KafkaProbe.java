import java.time.Duration;
import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;

/**
 * Waits until a broker really answers: metadata, and the group coordinator (which also creates
 * __consumer_offsets, so the first consumer group of a test does not pay for it).
 *
 * <p>Usage: {@code KafkaProbe BOOTSTRAP [TIMEOUT_MS]}; exits 0 once answered, 1 on timeout.
 * kafka.sh compiles it once at install time, next to the broker's jars.
 */
public final class KafkaProbe {
  private KafkaProbe() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 1) {
      System.err.println("usage: KafkaProbe BOOTSTRAP [TIMEOUT_MS]");
      System.exit(2);
    }
    String bootstrap = args[0];
    long timeoutMs = args.length > 1 ? Long.parseLong(args[1]) : 60_000L;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "mamori-kafka-probe");
    // Short timeouts: the probe loops itself until its own deadline.
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);

    Exception last = null;
    try (Admin admin = Admin.create(props)) {
      while (System.nanoTime() < deadline) {
        long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        try {
          Collection<Node> nodes = admin.describeCluster().nodes().get(leftMs, TimeUnit.MILLISECONDS);
          admin
              .listConsumerGroupOffsets("mamori-kafka-probe")
              .partitionsToOffsetAndMetadata()
              .get(leftMs, TimeUnit.MILLISECONDS);
          System.out.println("answering: " + nodes.size() + " broker(s), group coordinator ready");
          admin.close(Duration.ofSeconds(1));
          System.exit(0);
        } catch (ExecutionException | TimeoutException e) {
          last = e;
          Thread.sleep(250);
        }
      }
      admin.close(Duration.ZERO);
    }
    System.err.println("no answer from " + bootstrap + " within " + timeoutMs + " ms: " + last);
    System.exit(1);
  }
}

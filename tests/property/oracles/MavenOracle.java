// Reads "a<TAB>b" lines and prints the sign of Maven's ComparableVersion a.compareTo(b).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split("\t", 2);
            int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
            out.println(Integer.signum(c));
        }
    }
}

package org.sover.itests;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.stream.Stream;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's Chromium, headless and offline, driven through chromedriver: one person's browser
 * with its own profile (cookies, IndexedDB outbox), its console collected for the test to check.
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Paths.get("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Paths.get("/usr/bin/chromedriver");
    public static final Path SHOTS = Paths.get("target/screenshots");
    public static final Duration WAIT = Duration.ofSeconds(30);

    public final ChromeDriver driver;
    private final Path profile;
    /** Console entries read so far: chromedriver hands each entry out once. */
    private final List<LogEntry> console = new ArrayList<>();

    private Browser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** A new browser with an empty profile and a 1280x900 window. */
    public static Browser open() throws IOException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new AssertionError("The browser tests need Debian's chromium and chromium-driver: "
                    + "apt-get install -y chromium chromium-driver (./run-tests.sh does this)");
        }
        Path profile = Files.createTempDirectory("sover-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // The flags keep Chromium from calling home: this machine reaches no other host.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--user-data-dir=" + profile, "--window-size=1280,900");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        Files.createDirectories(SHOTS);
        Browser browser = new Browser(new ChromeDriver(service, options), profile);
        browser.size(1280, 900);
        return browser;
    }

    public void get(String url) {
        driver.get(url);
    }

    /** A page of a node's console by its route, e.g. {@code #/peers}; within the app no reload happens. */
    public void get(NodeProcess node, String hash) {
        driver.get("http://127.0.0.1:" + node.httpPort + "/" + hash);
    }

    /** The first visible element with this data-testid, waited for. */
    public WebElement testid(String id) {
        return waitFor(css(id));
    }

    /** A CSS selector for a data-testid. */
    public static String css(String testid) {
        return "[data-testid='" + testid + "']";
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    public boolean isShown(String css) {
        return all(css).stream().anyMatch(WebElement::isDisplayed);
    }

    /** The first visible element matching a CSS selector, waited for. */
    public WebElement waitFor(String css) {
        return until(WAIT, d -> d.findElements(By.cssSelector(css)).stream().filter(WebElement::isDisplayed)
                .findFirst().orElse(null));
    }

    /** Clicks the first visible element matching; if the page redraws it meanwhile, clicks the new one. */
    public void click(String css) {
        until(WAIT, "something to click at " + css, d -> {
            waitFor(css).click();
            return true;
        });
    }

    /** The first element matching, visible or not (a hidden file input), waited for. */
    public WebElement waitForPresent(String css) {
        return until(WAIT, d -> d.findElements(By.cssSelector(css)).stream().findFirst().orElse(null));
    }

    /** Waits until the condition gives something other than null or false. */
    public <T> T until(Duration timeout, Function<WebDriver, T> condition) {
        return until(timeout, () -> null, condition);
    }

    /** Waits, and says what the page showed when the wait ran out. */
    public <T> T until(Duration timeout, String what, Function<WebDriver, T> condition) {
        return until(timeout, () -> what, condition);
    }

    /** Waits; {@code what} is asked only if the wait runs out, so it may describe the page then. */
    public <T> T until(Duration timeout, Supplier<String> what, Function<WebDriver, T> condition) {
        WebDriverWait wait = new WebDriverWait(driver, timeout);
        wait.withMessage(what);
        // Live pages redraw rows and badges while a condition looks at them: look again.
        wait.ignoring(StaleElementReferenceException.class);
        return wait.until(condition);
    }

    public Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /** Makes the page's viewport (not the window around it) this size, as a screen of that size shows it. */
    public void size(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
        int dx = width - ((Number) script("return window.innerWidth;")).intValue();
        int dy = height - ((Number) script("return window.innerHeight;")).intValue();
        if (dx != 0 || dy != 0) {
            driver.manage().window().setSize(new Dimension(width + dx, height + dy));
        }
    }

    /** Writes target/screenshots/{name}.png. */
    public void shot(String name) throws IOException {
        File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Every console entry since the browser opened. */
    public List<LogEntry> console() {
        console.addAll(driver.manage().logs().get(LogType.BROWSER).getAll());
        return List.copyOf(console);
    }

    /** SEVERE console entries (errors, failed loads) that {@code expected} does not excuse. */
    public List<LogEntry> consoleErrors(Predicate<String> expected) {
        return console().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .filter(e -> !expected.test(e.getMessage())).toList();
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> s = Files.walk(profile)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
